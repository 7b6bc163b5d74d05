"""adjoin.transform"""
