"""adjoin.frontend"""
