"""What every checker test asserts about a failing verdict."""

from genlib.exercises import Feedback


def assert_not_yet(feedback, *phrases):
    """The verdict failed, shows as "✘ Not yet", and its message contains every phrase."""
    assert isinstance(feedback, Feedback)
    assert not feedback.passed, feedback
    assert repr(feedback).startswith("✘ Not yet")
    for phrase in phrases:
        assert phrase in feedback.message, feedback.message
    return feedback.message
