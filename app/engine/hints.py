"""Plain-language explanations of the errors students meet most, each with a fix.

Security: ``hint_for`` runs after the program, on a message the program may write itself
(``assert False, 'expected input ' * 3000``), so its cost must not depend on what the program
did. The message is cut to ``max_hint_message_chars`` first, and no pattern backtracks: a hint
is a list of alternatives, each a few simple fragments (literals, one class with ``+``) that
must appear in order on one line. The former ``Expected .*input.* to have`` took cubic time:
8 s for 15,000 characters, minutes for 45,000.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from app.config import get_settings
from app.message import Message

# Written like a regex, but ".*" (anything on the same line) splits an alternative into
# fragments, and a top-level "|" separates alternatives (a "|" inside parentheses does not).
# The fragments themselves must not contain ".*" or nested quantifiers.
# (pattern in the error message, hint). First match wins; order from specific to general.
_TABLE: list[tuple[str, Message]] = [
    (r"mat1 and mat2 shapes cannot be multiplied|size mismatch, got input|"
     r"shapes cannot be multiplied|mat2 must be a matrix|self must be a matrix",
     Message("Matrix product (torch.mm / matmul / @) of an (m x n) by an (n x p) needs the columns"
             " of the first to equal the rows of the second. Check both .shape; transpose one with"
             " .T, or use torch.mul (or *) if you meant element-wise multiplication.")),
    (r"stack expects each tensor to be equal size",
     Message("torch.stack needs tensors of exactly the same shape: it adds a new dimension and "
             "lines them up along it. Reshape them to match, or use torch.cat to join along an "
             "existing dimension.")),
    (r"Sizes of tensors must match except in dimension",
     Message("torch.cat joins along one existing dimension; every other dimension must match. "
             "Compare the shapes, or pick the dim along which they differ.")),
    (r"Dimension out of range \(expected to be in range of \[(-?\d+), (-?\d+)\], but got (-?\d+)",
     Message("That dim does not exist for this tensor. A tensor with n dimensions accepts dim from"
             " -n to n-1; torch.stack and unsqueeze add a dimension, so they accept -(n+1) to n. "
             "Check x.dim().")),
    (r"a leaf Variable that requires grad is being used in an in-place operation",
     Message("An in-place change (add_, x[...] = ...) to a leaf tensor that requires grad would "
             "corrupt the gradient. Update it inside `with torch.no_grad():`, or use the "
             "out-of-place form (x = x + 1).")),
    (r"one of the variables needed for gradient computation has been modified by an inplace",
     Message("A tensor saved for backward was changed in place afterwards (its version counter "
             "moved). Use the out-of-place operation (y = y + 1 instead of y.add_(1)) or .clone() "
             "first.")),
    (r"Trying to backward through the graph a second time",
     Message("backward() frees the graph it used. Recompute the forward pass before calling "
             "backward() again, or pass retain_graph=True to the first backward().")),
    (r"grad can be implicitly created only for (real )?scalar outputs",
     Message("backward() without arguments needs a single number. Reduce first (loss = out.sum() "
             "or out.mean()), or pass a gradient of the same shape: "
             "out.backward(torch.ones_like(out)).")),
    (r"does not require grad and does not have a grad_fn",
     Message("Nothing in this computation requires grad, so there is no graph to differentiate. "
             "Create the inputs with requires_grad=True, and do not compute inside "
             "torch.no_grad().")),
    (r"Expected all tensors to be on the same device|expected device|"
     r"is on (cpu|cuda).*different device",
     Message("Tensors on different devices cannot be combined. Move them to one device with "
             ".to(device) (and the model with model.to(device)).")),
    (r"expected scalar type Long but found|Expected target size|"
     r"0D or 1D target tensor expected|nll_loss.*Float|target.*Long",
     Message("CrossEntropyLoss / NLLLoss want class indices as int64 targets of shape (N,), and "
             "raw scores (logits) of shape (N, C) as input. Convert targets with target.long().")),
    (r"Found dtype (\w+) but expected (\w+)",
     Message("The loss needs both tensors in the same floating dtype: convert the target with "
             ".float() (MSELoss, BCELoss).")),
    (r"expected (m1 and m2|both vectors|mat1 and mat2) to have (the )?same dtype|"
     r"expected scalar type (\w+) but found (\w+)|result type .* can't be cast",
     Message("The two tensors have different dtypes. Convert one: b = b.to(a.dtype) (or .float(), "
             ".long()).")),
    (r"view size is not compatible with input tensor's size and stride",
     Message("view() needs memory laid out contiguously, and this tensor is not (after transpose "
             "or permute). Use .reshape(...) (copies when needed) or .contiguous().view(...).")),
    (r"The size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\)",
     Message("Element-wise operations broadcast: compared from the right, each pair of dimensions "
             "must be equal or one of them 1. Reshape or unsqueeze one tensor so the shapes line "
             "up.")),
    (r"shape '\[.*\]' is invalid for input of size",
     Message("The new shape must hold exactly as many elements as the tensor (x.numel()). Use -1 "
             "for one dimension to let torch work it out.")),
    (r"Can't call numpy\(\) on Tensor that requires grad",
     Message("Detach from the graph first: x.detach().numpy().")),
    (r"can't convert (cuda|mps).* to numpy",
     Message("numpy() reads host memory: copy to the CPU first with x.cpu().numpy().")),
    (r"Replacement index \d+ out of range|not enough arguments for format string|"
     r"not all arguments converted during string formatting",
     Message("Each field of a format string ({{}} or %d, %s ...) takes one value: pass as many "
             "values as there are fields, e.g. '{{}} of {{}}'.format(i, n) or '%d/%d' % (i, n). "
             "Write {{{{ }}}} or %% for a literal brace or percent sign.")),
    (r"cannot switch from manual field|cannot switch from automatic field",
     Message("Number every field ('{{0}} {{1}}') or none of them ('{{}} {{}}'), not a mix.")),
    (r"sequence item \d+: expected str instance",
     Message("str.join joins strings only: convert the items first, e.g. ', '.join(str(x) for x in"
             " items).")),
    (r"format: a real number is required|format: an integer is required",
     Message("%d, %f and %x format numbers: use %s for text and other values, and t.item() for a "
             "one-element tensor.")),
    (r"only one element tensors can be converted to Python scalars|"
     r"a Tensor with \d+ elements cannot be converted to Scalar",
     Message("item() and float() need a tensor with exactly one element. Reduce it first (x.sum(),"
             " x.mean()) or index one element (x[0, 0]).")),
    (r"Boolean value of Tensor with more than one (value|element) is ambiguous",
     Message("An if/while over a tensor needs one True/False. Use (x > 0).all() or .any(), or "
             "compare single elements.")),
    (r"Torch not compiled with CUDA enabled|no CUDA GPUs are available|"
     r"Found no NVIDIA driver",
     Message("This server has no CUDA GPU. Pick the device with torch.device('cuda' if "
             "torch.cuda.is_available() else 'cpu').")),
    (r"cannot assign module before Module.__init__\(\) call|"
     r"cannot assign parameters before Module.__init__\(\) call",
     Message("Call super().__init__() first in your nn.Module's __init__, before assigning "
             "layers.")),
    (r"Expected .*input.* to have (\d+) channels|expected input.*to have.*features|"
     r"in_features",
     Message("The layer's expected input size does not match the data: in_features (or "
             "in_channels) must equal the last (or channel) dimension of the input.")),
    (r"all elements of input should be between 0 and 1",
     Message("BCELoss wants probabilities: apply torch.sigmoid to the model output first, or use "
             "BCEWithLogitsLoss on raw outputs (more stable).")),
    (r"index \d+ is out of bounds|index out of range|out of bounds for dimension",
     Message("An index is past the end of that dimension. Indices go from 0 to size-1 (or -size to"
             " -1); check x.shape.")),
    (r"name '(\w+)' is not defined",
     Message("Define the variable (or import the module) before the line that uses it. Each run "
             "starts from an empty program.")),
    (r"object is not callable",
     Message("That value is not a function. Check for a name that was reassigned (for example a "
             "variable called like a layer).")),
    (r"unexpected keyword argument",
     Message("That function does not take this keyword; check its spelling and the PyTorch docs.")),
]


Fragments = tuple[re.Pattern[str], ...]


def _split(pattern: str, separator: str) -> list[str]:
    """``pattern`` split at ``separator`` outside parentheses (and not after a backslash)."""
    parts: list[str] = []
    depth = 0
    start = 0
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and pattern.startswith(separator, index):
            parts.append(pattern[start:index])
            index += len(separator)
            start = index
            continue
        index += 1
    parts.append(pattern[start:])
    return parts


def _compile(pattern: str) -> list[Fragments]:
    return [tuple(re.compile(fragment, re.IGNORECASE) for fragment in _split(alternative, ".*"))
            for alternative in _split(pattern, "|")]


_HINTS: list[tuple[list[Fragments], Message]] = [(_compile(p), h) for p, h in _TABLE]


def _in_order(fragments: Fragments, text: str) -> bool:
    """Whether the fragments match one after another on one line of ``text``, as the regex
    ``f1.*f2.*f3`` would. Linear: the first fragment's leftmost match on a line leaves the
    most room for the others, so each line is searched once per fragment."""
    position = 0
    while True:
        first = fragments[0].search(text, position)
        if first is None:
            return False
        line_end = text.find("\n", first.end())
        if line_end < 0:
            line_end = len(text)
        end = first.end()
        for fragment in fragments[1:]:
            found = fragment.search(text, end, line_end)
            if found is None:
                break
            end = found.end()
        else:
            return True
        position = line_end + 1


def _matches(alternatives: list[Fragments], message: str) -> bool:
    return any(_in_order(fragments, message) for fragments in alternatives)


def hint_for(error_type: str, message: str) -> Message | None:
    # Only the head of the message: every message these hints know is short, and the head
    # is where torch puts the words they look for.
    message = message[:get_settings().max_hint_message_chars]
    for alternatives, hint in _HINTS:
        if _matches(alternatives, message):
            return hint
    if error_type == "ZeroDivisionError":
        return Message("Python numbers cannot be divided by zero (tensors give inf or nan "
                       "instead).")
    return None


# Names compared for a suggestion: a misspelling is short, and difflib is quadratic in length.
_MAX_SUGGESTION_NAME = 60
_MAX_CANDIDATES = 5_000


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """"; did you mean 'unsqueeze'?" for the closest public candidate, or ""."""
    if len(name) > _MAX_SUGGESTION_NAME:
        return ""
    pool: list[str] = []
    for candidate in candidates:
        if isinstance(candidate, str) and not candidate.startswith("_") \
                and len(candidate) <= _MAX_SUGGESTION_NAME:
            pool.append(candidate)
            if len(pool) >= _MAX_CANDIDATES:
                break
    matches = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    return f"; did you mean '{matches[0]}'?" if matches else ""
