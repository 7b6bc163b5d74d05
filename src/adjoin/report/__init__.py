"""adjoin.report"""
