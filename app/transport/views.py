from flask import Blueprint

bp = Blueprint("transport", __name__, template_folder="templates")
