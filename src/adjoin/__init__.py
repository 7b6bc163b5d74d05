"""adjoin: adjoints of Python/NumPy programs by source transformation, with checkpointing advice."""
from .api import Site, adjoint, checkpoint_sites, generate_source, grad, value_and_grad
from .errors import AdjoinError, NonFiniteGradientWarning, StalePlacementWarning, VerifyError
from .placement import Placement
from .tangent_api import dot_test, jvp, tangent

__all__ = ["AdjoinError", "Placement", "Site", "adjoint", "checkpoint_sites", "generate_source",
           "grad", "value_and_grad", "jvp", "tangent", "dot_test", "NonFiniteGradientWarning", "StalePlacementWarning", "VerifyError"]
from .version import __version__  # noqa: E402
