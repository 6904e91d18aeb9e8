"""The claims of the prose, checked against the numbers of the run that prints them.

When a chapter's text draws a conclusion from a measurement ("the DCGAN's samples are closer
to the real images than the dense GAN's"), the code cell that measured it also calls
:func:`check_claim` with the sentence and the comparison that supports it. The claim is
recorded as the result ``claim.<name>`` (1 when it holds, 0 when not; see
:func:`genlib.record_result`): the benchmark script fails when a full-mode claim does not
hold, so the book cannot silently print a conclusion its own numbers contradict.

A reader sees each check under the numbers. In quick mode (small data, short training) a
claim may not show; the note then says so plainly instead of leaving the text to contradict
the numbers. :func:`tie_or_ranking` turns two sets of measurements over several seeds into
"A beats B" only when the gap exceeds the seed-to-seed spread.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from genlib._validation import as_array
from genlib.results import record_result

_NAME = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")


def check_claim(name: str, holds, statement: str) -> bool:
    """Check one claim of the text in this run: print it with its verdict, record it.

    Parameters
    ----------
    name : str
        A short dotted identifier, e.g. ``"dcgan.beats_dense_gan"``; the result is recorded
        as ``claim.<name>``.
    holds : bool
        Whether this run's numbers support the statement (a comparison computed right
        before the call, never a constant).
    statement : str
        The claim as the text makes it, in a few words.

    Returns
    -------
    bool
        ``holds``.

    Examples
    --------
    >>> check_claim("example.smaller", 0.2 < 0.3, "0.2 is smaller than 0.3")
    Claim checked: 0.2 is smaller than 0.3 – holds in this run.
    True
    """
    from genlib.modes import current_mode

    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"name must be a dotted lowercase identifier such as "
                         f"'dcgan.beats_dense_gan', got {name!r}")
    if not isinstance(statement, str) or not statement.strip():
        raise ValueError("statement must say, in a few words, what the text claims")
    if not isinstance(holds, (bool, np.bool_)):
        raise TypeError(f"holds must be a bool (the result of a comparison), got "
                        f"{type(holds).__name__}: compare the measured numbers, e.g. "
                        "distance_a < distance_b")
    holds = bool(holds)
    record_result(f"claim.{name}", float(holds))
    if holds:
        print(f"Claim checked: {statement} – holds in this run.")
    elif current_mode().is_quick:
        print(f"Quick mode: this run does not show that {statement} (the text describes "
              "full mode, where this is checked).")
    else:
        print(f"WARNING: this run contradicts the text: it does not show that {statement}. "
              "The benchmark reports the claim as failed.")
    return holds


def failed_claims(results) -> list[str]:
    """The claims among recorded results that did not hold, sorted by name.

    Parameters
    ----------
    results : mapping or iterable of (str, float)
        Recorded results, name to value (as :func:`genlib.record_result` writes them, or as
        the benchmark stores a chapter's); names not starting with ``claim.`` are ignored.

    Examples
    --------
    >>> failed_claims({"claim.a": 1.0, "claim.b": 0.0, "vae.frechet": 41.7})
    ['claim.b']
    """
    pairs = results.items() if isinstance(results, Mapping) else results
    return sorted(name for name, value in pairs
                  if name.startswith("claim.") and value != 1.0)


def beats(a, b, *, lower_is_better: bool = True) -> bool:
    """Whether A is better than B by more than the seed-to-seed spread.

    The rule of :func:`tie_or_ranking`, as a yes or no for :func:`check_claim`: the gap
    between the means must exceed the larger standard deviation (``ddof=1``) of the two.
    With one seed each the spread is unknown, and the answer is no.

    Parameters
    ----------
    a, b : sequence of float
        The same measurement for each seed, of A and of B (the same number of seeds).
    lower_is_better : bool, default True
        Whether a lower value is better (a distance, an error) or a higher one.

    Examples
    --------
    >>> beats([1.0, 1.2, 1.1], [2.0, 2.1, 1.9])
    True
    >>> beats([1.0, 1.4, 1.2], [1.3, 1.1, 1.5]), beats([1.0], [2.0])
    (False, False)
    """
    a, b = _paired(a, b)
    if len(a) < 2:
        return False
    gap = b.mean() - a.mean() if lower_is_better else a.mean() - b.mean()
    return bool(gap > max(a.std(ddof=1), b.std(ddof=1)))


def _paired(a, b):
    a = as_array(a, "a", ndim=1).astype(float)
    b = as_array(b, "b", ndim=1).astype(float)
    if len(a) != len(b):
        raise ValueError(f"a and b must hold one measurement per seed, for the same seeds: "
                         f"got {len(a)} and {len(b)}")
    return a, b


def tie_or_ranking(a, b, *, names=("A", "B"), lower_is_better: bool = True) -> str:
    """Compare two measurements repeated over seeds: a ranking, or a tie within the spread.

    The gap between the means counts only when it is larger than the spread of either
    measurement (its standard deviation over the seeds, ``ddof=1``); otherwise the two are
    tied. With one seed each the spread is unknown, and the answer says so.

    Parameters
    ----------
    a, b : sequence of float
        The same measurement (e.g. a Fréchet distance) for each seed, of A and of B.
    names : (str, str), default ("A", "B")
        What A and B are called in the answer.
    lower_is_better : bool, default True
        Whether a lower value is better (a distance or an error) or a higher one (an
        accuracy).

    Examples
    --------
    >>> tie_or_ranking([1.0, 1.2, 1.1], [2.0, 2.1, 1.9], names=("DDPM", "DCGAN"))
    'DDPM is better than DCGAN (1.1 ± 0.1 against 2 ± 0.1 over 3 seeds)'
    >>> tie_or_ranking([1.0, 1.4, 1.2], [1.3, 1.1, 1.5], names=("DDPM", "DCGAN"))
    'DDPM and DCGAN are tied (1.2 ± 0.2 against 1.3 ± 0.2 over 3 seeds)'
    """
    a, b = _paired(a, b)
    first, second = names
    if len(a) < 2:
        return (f"{first} measured {a[0]:.3g} and {second} {b[0]:.3g}, one seed each: the "
                "seed-to-seed spread is unknown, so this is no ranking")
    summary = (f"({a.mean():.3g} ± {a.std(ddof=1):.1g} against {b.mean():.3g} ± "
               f"{b.std(ddof=1):.1g} over {len(a)} seeds)")
    if beats(a, b, lower_is_better=lower_is_better):
        better, worse = first, second
    elif beats(b, a, lower_is_better=lower_is_better):
        better, worse = second, first
    else:
        return f"{first} and {second} are tied {summary}"
    return f"{better} is better than {worse} {summary}"
