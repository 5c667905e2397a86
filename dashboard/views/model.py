"""Model (admins only): what each watch learned from its people's corrections, the history of its
calibrations, and the buttons that learn now or undo the last change. The rules are monitor/learn/'s."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import context
from dashboard.safe import plain
from monitor.config import Config
from monitor.learn.describe import calibration_line, headline, outcome_lines
from monitor.learn.offsets import Target
from monitor.score.run import Model, load_model
from monitor.store.calibrations import CalibrationError, active_calibration, history
from monitor.store.corrections import count_corrections

RESULT_KEY = "model_page_result"


@st.cache_resource(show_spinner=False)
def _model(name: str | None) -> Model:
    return load_model(name)


def _learn(config: Config, watch: str, actor: str) -> None:
    from monitor.learn.dev_check import probe
    from monitor.learn.run import learn_watch

    model = _model(config.model.name)
    outcome = learn_watch(
        context.engine(),
        model,
        watch,
        config.learn,
        actor=actor,
        probe=lambda: probe(model.version),
        fine_tune=False,
    )
    st.session_state[RESULT_KEY] = (watch, "\n".join(outcome_lines(outcome)))


def _rollback(config: Config, watch: str, actor: str) -> None:
    from monitor.learn.run import rollback

    try:
        previous, now, rescored = rollback(context.engine(), _model(config.model.name), watch, actor)
    except CalibrationError as exc:
        st.session_state[RESULT_KEY] = (watch, f"Not rolled back: {exc}.")
        return
    back_to = "the model as shipped" if now is None else f"calibration #{now}"
    said = f"rolled back from calibration #{previous} to {back_to}; {rescored} open mention(s) re-scored"
    st.session_state[RESULT_KEY] = (watch, said)


st.title("Model")
user = context.require("admin")
config = context.config()
engine = context.engine()
st.caption(
    "Each watch learns from its corrections (relabels, bulk relabels, and the label column of "
    "`grumble import`): the model's three class offsets are fitted to them, and with "
    f"{config.learn.fine_tune_min_corrections} or more the model itself is fine-tuned on them; a new "
    "calibration is used only if it beats the current one on corrections held back and costs the "
    "multi-domain dev set at most one point. Scheduled every "
    f"{config.learn.every_hours:g} h ([learn] every_hours); `grumble learn` and `grumble model` do the same. "
    "Learn now fits offsets only: fine-tuning takes minutes and runs on the schedule."
)
result = st.session_state.pop(RESULT_KEY, None)
for watch in config.watch_names:
    st.subheader(plain(watch))
    current = active_calibration(engine, watch)
    if current is None:
        st.info("Scores with the model as shipped: nothing learned yet.")
    else:
        st.success(plain(headline(current.corrections, current.report)))
        st.caption(plain(calibration_line(current)))
    target = config.learn.min_complaint_recall.get(watch)
    drop = Target(target, config.learn.max_recall_drop).allowed_drop
    goal = (
        f"catch at least {target:.0%} of complaints"
        if target
        else "the best macro-F1"
        + (
            f" that catches at most {100 * drop:g} points fewer complaints than now"
            if drop is not None
            else ""
        )
    )
    st.markdown(
        f"**{count_corrections(engine, watch)}** correction(s) so far; learning needs "
        f"{config.learn.min_corrections}. Operating point: {goal}."
    )
    left, right = st.columns(2)
    left.button(
        "Learn now",
        key=f"learn_{watch}",
        on_click=context.acting(_learn),
        args=(config, watch, user.name),
    )
    right.button(
        "Roll back",
        key=f"rollback_{watch}",
        disabled=current is None,
        on_click=context.acting(_rollback),
        args=(config, watch, user.name),
    )
    if result is not None and result[0] == watch:
        st.code(result[1], language=None)
    fitted, _ = history(engine, watch)
    if fitted:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "#": c.id,
                        "when": c.created_at,
                        "decision": c.decision,
                        "corrections": c.corrections,
                        "what was learned": headline(c.corrections, c.report),
                        "why": c.reason,
                    }
                    for c in reversed(fitted)
                ]
            ),
            hide_index=True,
        )
