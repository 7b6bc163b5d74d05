"""Names: those the generated code keeps for itself, and fresh ones that clash with nothing."""


# Names the generated code uses for itself: a user's name among them is renamed (never shadowed).
RESERVED = frozenset({"tape", "ad", "np", "math", "prof", "verify", "value", "result_b"})


class Namer:
    """Fresh names, none of them among ``taken`` or given before."""

    def __init__(self, taken):
        self.taken = set(taken)

    def fresh(self, base):
        """``base``, else ``base2``, ``base3``, ...: the first one free, from now on taken."""
        name = base
        n = 1
        while name in self.taken:
            n += 1
            name = f"{base}{n}"
        self.taken.add(name)
        return name
