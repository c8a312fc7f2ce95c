"""Per-user feedback moves that user's score only, and only after enough labels of each class."""

from __future__ import annotations

from email_service.mail.mime.parse import parse_message
from email_service.spam.model import score_parsed
from email_service.spam.user_model import UserWeights, update_user_model


def _msg(subject: str, body: str) -> bytes:
    return f"From: x@shop.example\nSubject: {subject}\nMessage-ID: <{subject}@x>\n\n{body}\n".encode()


NEWSLETTER = parse_message(_msg("weekly-deals", "This week's deals on garden furniture and barbecue sets."))
HAMS = [
    parse_message(_msg(f"h{i}", f"Meeting notes number {i} about the project roadmap.")) for i in range(5)
]


def _train(state: bytes | None, n: int = 5) -> bytes:
    for ham in HAMS[:n]:
        state = update_user_model(state, ham, is_spam=False)
    for _ in range(n):
        state = update_user_model(state, NEWSLETTER, is_spam=True)
    assert state is not None
    return state


def test_feedback_raises_that_users_score() -> None:
    before = score_parsed(NEWSLETTER).spam_score
    user = UserWeights.from_bytes(_train(None))
    assert user.is_active and user.n_spam == 5 and user.n_ham == 5
    after = score_parsed(NEWSLETTER, user_weights=user).spam_score
    assert after > before + 0.01
    fresh = score_parsed(NEWSLETTER, user_weights=UserWeights.from_bytes(None)).spam_score
    assert fresh == before


def test_user_model_silent_until_enough_labels() -> None:
    user = UserWeights.from_bytes(_train(None, n=4))
    assert not user.is_active
    assert score_parsed(NEWSLETTER, user_weights=user).spam_score == score_parsed(NEWSLETTER).spam_score
    assert UserWeights.from_bytes(user.to_bytes(), min_labels=4).is_active


def test_state_round_trips_without_pickle() -> None:
    data = _train(None)
    assert data.startswith(b"PK")  # npz is a zip of .npy arrays
    again = UserWeights.from_bytes(data)
    assert again.to_bytes() == UserWeights.from_bytes(again.to_bytes()).to_bytes()
