"""The desk's forms: they carry the fields; the desk services check the rules."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField


class MessageForm(FlaskForm):
    """A message to the schools of a session or a day (desk.services checks subject and text)."""

    subject = StringField(default="")
    text = TextAreaField(default="")
