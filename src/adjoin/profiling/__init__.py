"""adjoin.profiling"""
