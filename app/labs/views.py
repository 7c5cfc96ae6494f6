from flask import Blueprint

bp = Blueprint("labs", __name__, template_folder="templates")
