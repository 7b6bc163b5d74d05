"""Views of profiles and advice: ``terminal`` (tables, human units), ``plots`` (matplotlib
figures, PNG or SVG) and ``html`` (the self-contained report of ``adjoin report``).

Nothing is imported here, so that the terminal tables do not pay for the figures' imports.
"""
