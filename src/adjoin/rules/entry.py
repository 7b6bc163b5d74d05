"""An entry of the derivative table: the Rule of one primitive, the builder the families use,
and the result kinds an entry may name."""
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Rule:
    """Everything adjoin knows of one primitive: how to differentiate it, the kind of its result,
    whether that result may share memory with its first argument, and its other spellings."""
    params: tuple                      # positional parameter names in call order
    adjoints: MappingProxyType         # parameter -> contribution template ({} for non-differentiable)
    defaults: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    elementwise: bool = False          # may return contributions in the broadcast shape
    result: str = "elementwise"        # kind of the result, see KIND_RULES
    sequence: tuple = ()               # parameters that take a list/tuple of arrays
    varargs: str | None = None         # name of a *args parameter (e.g. reshape's dims), never active
    view: bool = False                 # the result may be a view of the first argument (points_to.py)
    methods: tuple = ()                # the same primitive as an array method: x.NAME(...)
    one_argument: str | None = None    # the entry a call with one positional argument means instead
    # no derivative rule although the derivative is not zero: an argument carrying a derivative is
    # refused, with this rewrite (an empty ``adjoints`` alone means "piecewise constant": zero)
    no_rule: str | None = None
    # the result always has the first argument's shape (np.roll): the backward sweep reads the
    # shape there instead of computing the result again (tests/test_rules.py checks every case)
    keeps_shape: bool = False
    # tangent mode: parameter -> template of the result's tangent, given ``d`` the parameter's
    # tangent (see TANGENTS below; element-wise entries derive theirs from ``adjoints``)
    tangents: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))


# result kinds understood by the kind inference (analysis/result_kinds.py reads these, never names)
KIND_RULES = {
    "elementwise": "broadcast of the arguments",
    "reduce": "first argument reduced along 'axis' (all axes when None), keepdims respected",
    "scalar": "a float",
    "int": "an int (never active)",
    "bool": "a bool (never active)",
    "same": "same kind and rank as the first argument",
    "like": "an array of the first argument's rank and dtype (a 0-d array for a number)",
    "array": "an array of unknown rank",
    "matmul": "rank of a matrix product of the first two arguments",
    "item": "an item of the first argument (an array without its first axis, a tuple's items)",
    "join": "the join of the arguments' kinds (builtin max/min of numbers)",
    "from_shape": "an array whose rank is the length of the 'shape' argument",
    "reshape": "an array whose rank is the length of 'shape' (or of the dims given one by one)",
    "flat": "a 1-D array",
    "arange": "a 1-D array, of ints when every argument is an int",
    "flat_or_like": "a 1-D array when 'axis' is None, else like the first argument (cumsum)",
    "display": "an array as deep as the nested list or tuple given (np.array([[a, b], [c, d]]))",
    "stack": "one more dimension than the arrays stacked",
    "concatenate": "the rank of the arrays joined",
    "vstack": "the rank of the arrays joined, at least 2",
    "matrix": "a 2-D array",
    "expand": "one more dimension per axis inserted",
    "broadcast": "an array whose rank is the length of 'shape'",
    "tile": "the larger of the first argument's rank and the length of 'reps'",
    "repeat": "a 1-D array when 'axis' is None, else like the first argument",
    "arg": "an int, or an int array along 'axis' (argmax, argmin)",
    "where": "a tuple of index arrays with one argument, else the broadcast of the arguments",
    "diag": "a matrix from a vector, a vector from a matrix (np.diag)",
    "diagonal": "the first argument with its two axes made one, last (np.diagonal: a matrix gives a vector)",
    "einsum": "an array of the rank of the subscripts after '->'",
    "gradient": "like the first argument when it is 1-D or 'axis' is given (else a tuple, refused)",
    "meshgrid": "a tuple of as many arrays as arguments, each of that rank",
    "inactive": "any value that never carries derivatives (indices, masks, shapes)",
}


def rule(params, adjoints=None, *, defaults=None, elementwise=False, result="elementwise",
         sequence=(), varargs=None, view=False, methods=(), one_argument=None, no_rule=None,
         keeps_shape=False):
    """Builds a Rule; ``params`` is a space-separated string of parameter names."""
    return Rule(tuple(params.split()), MappingProxyType(dict(adjoints or {})),
                MappingProxyType(dict(defaults or {})), elementwise, result, tuple(sequence), varargs,
                view, tuple(methods), one_argument, no_rule, keeps_shape)
