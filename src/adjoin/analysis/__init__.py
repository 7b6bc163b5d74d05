"""adjoin.analysis"""
