"""admission: a booking names its class; offered places; region admission settings

A booking names its class within the school (class_name, e.g. "7A"); existing bookings get
their groep as class name ("7", "7/8"). The database backstop becomes one active booking per
class of a school per session (how many classes of one school may share a session is the
region's setting, classes_per_school_session, default 1). A place promoted from the waiting
list inside the cancellation deadline is offered (status offered, offer_expires_at) for the
region's offer_hours (default 48).

Revision ID: 0007_admission
Revises: 0006_outbox
"""

from alembic import op
import sqlalchemy as sa


revision = "0007_admission"
down_revision = "0006_outbox"
branch_labels = None
depends_on = None

OLD_ACTIVE = "status IN ('confirmed', 'waitlisted', 'attended', 'no_show')"
NEW_ACTIVE = "status IN ('confirmed', 'waitlisted', 'offered', 'attended', 'no_show')"
OLD_STATUSES = "status IN ('confirmed', 'waitlisted', 'cancelled', 'attended', 'no_show')"
NEW_STATUSES = "status IN ('confirmed', 'waitlisted', 'offered', 'cancelled', 'attended', 'no_show')"


def upgrade():
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("classes_per_school_session", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("offer_hours", sa.Integer(), nullable=False, server_default="48"))
        batch_op.create_check_constraint("classes_per_school_session_positive", "classes_per_school_session >= 1")
        batch_op.create_check_constraint("offer_hours_positive", "offer_hours >= 1")
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.alter_column("classes_per_school_session", server_default=None)
        batch_op.alter_column("offer_hours", server_default=None)

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("class_name", sa.String(length=40), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True))
    # existing bookings: the class is named after its groep ("7", "7/8")
    op.execute("UPDATE bookings SET class_name = CAST(groep_min AS VARCHAR(2)) WHERE groep_min = groep_max")
    op.execute(
        "UPDATE bookings SET class_name = CAST(groep_min AS VARCHAR(2)) || '/' || CAST(groep_max AS VARCHAR(2)) "
        "WHERE groep_max = groep_min + 1"
    )
    op.execute(
        "UPDATE bookings SET class_name = CAST(groep_min AS VARCHAR(2)) || '/' || CAST(groep_min + 1 AS VARCHAR(2)) "
        "|| '/' || CAST(groep_max AS VARCHAR(2)) WHERE groep_max = groep_min + 2"
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.alter_column("class_name", server_default=None)
        batch_op.drop_index(
            "uq_bookings_session_id_school_id_active",
            postgresql_where=sa.text(OLD_ACTIVE),
            sqlite_where=sa.text(OLD_ACTIVE),
        )
        batch_op.drop_constraint("booking_status", type_="check")
        batch_op.create_check_constraint("booking_status", NEW_STATUSES)
        batch_op.create_index(
            "uq_bookings_session_id_school_id_class_name_active",
            ["session_id", "school_id", "class_name"],
            unique=True,
            postgresql_where=sa.text(NEW_ACTIVE),
            sqlite_where=sa.text(NEW_ACTIVE),
        )


def downgrade():
    op.execute("UPDATE bookings SET status = 'waitlisted', offer_expires_at = NULL WHERE status = 'offered'")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_bookings_session_id_school_id_class_name_active",
            postgresql_where=sa.text(NEW_ACTIVE),
            sqlite_where=sa.text(NEW_ACTIVE),
        )
        batch_op.drop_constraint("booking_status", type_="check")
        batch_op.create_check_constraint("booking_status", OLD_STATUSES)
        batch_op.create_index(
            "uq_bookings_session_id_school_id_active",
            ["session_id", "school_id"],
            unique=True,
            postgresql_where=sa.text(OLD_ACTIVE),
            sqlite_where=sa.text(OLD_ACTIVE),
        )
        batch_op.drop_column("offer_expires_at")
        batch_op.drop_column("class_name")
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.drop_constraint("offer_hours_positive", type_="check")
        batch_op.drop_constraint("classes_per_school_session_positive", type_="check")
        batch_op.drop_column("offer_hours")
        batch_op.drop_column("classes_per_school_session")
