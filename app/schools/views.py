from flask import Blueprint

bp = Blueprint("schools", __name__, template_folder="templates")
