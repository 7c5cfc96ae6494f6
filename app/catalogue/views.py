from flask import Blueprint, render_template

bp = Blueprint("catalogue", __name__, template_folder="templates", url_prefix="/aanbod")


@bp.get("/")
def offers():
    return render_template("base.html")
