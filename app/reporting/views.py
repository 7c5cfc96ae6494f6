from flask import Blueprint

bp = Blueprint("reporting", __name__, template_folder="templates")
