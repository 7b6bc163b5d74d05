"""adjoin.runtime"""
