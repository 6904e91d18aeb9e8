"""Exercise checkers: call one with your answer and read what it says.

Every checker returns a :class:`Feedback`, which prints as one clear verdict: what is
right, or the first thing that is wrong and how to fix it. Checkers never raise on a
wrong answer (they report the error your code raised instead).

>>> from genlib.exercises import ch01
>>> import numpy as np
>>> ch01.check_principal_angles(lambda a, b: np.zeros(a.shape[1]))  # doctest: +ELLIPSIS
✘ Not yet: ...
"""

from genlib.exercises.feedback import Feedback

__all__ = ["Feedback"]
