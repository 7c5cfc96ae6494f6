"""teacher_a: offer settings (booking horizon, minimum notice, change deadline, approval) and requested bookings

An offer may say how far ahead (booking_horizon_weeks, NULL: no limit) and how late
(min_notice_days) a class may book, until how many days before the session a booking may
still be changed (change_deadline_days), and whether the coordinator approves each booking
(approval_required). On such an offer a booking waits as "requested" (aangevraagd): it holds
its place and counts as active for the one-booking-per-class backstop.

Revision ID: 0013_teacher_a
Revises: 0012_reports
"""

from alembic import op
import sqlalchemy as sa


revision = "0013_teacher_a"
down_revision = "0012_reports"
branch_labels = None
depends_on = None

OLD_ACTIVE = "status IN ('confirmed', 'waitlisted', 'offered', 'attended', 'no_show')"
NEW_ACTIVE = "status IN ('confirmed', 'waitlisted', 'offered', 'requested', 'attended', 'no_show')"
OLD_STATUSES = "status IN ('confirmed', 'waitlisted', 'offered', 'cancelled', 'attended', 'no_show')"
NEW_STATUSES = "status IN ('confirmed', 'waitlisted', 'offered', 'requested', 'cancelled', 'attended', 'no_show')"
OLD_SERIES = "status IN ('confirmed', 'waitlisted', 'cancelled', 'attended', 'no_show')"


def upgrade():
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("booking_horizon_weeks", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("min_notice_days", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("change_deadline_days", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("approval_required", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_check_constraint(
            "booking_horizon_positive", "booking_horizon_weeks IS NULL OR booking_horizon_weeks >= 1"
        )
        batch_op.create_check_constraint("min_notice_not_negative", "min_notice_days >= 0")
        batch_op.create_check_constraint("change_deadline_not_negative", "change_deadline_days >= 0")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.alter_column("min_notice_days", server_default=None)
        batch_op.alter_column("change_deadline_days", server_default=None)
        batch_op.alter_column("approval_required", server_default=None)

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_bookings_session_id_school_id_class_name_active",
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
    with op.batch_alter_table("series_bookings", schema=None) as batch_op:
        batch_op.drop_constraint("series_status", type_="check")
        batch_op.create_check_constraint("series_status", NEW_STATUSES)


def downgrade():
    # a request no one answered yet: withdrawn (it never was a confirmed booking)
    op.execute("UPDATE bookings SET status = 'cancelled' WHERE status = 'requested'")
    op.execute("UPDATE series_bookings SET status = 'cancelled' WHERE status IN ('requested', 'offered')")
    with op.batch_alter_table("series_bookings", schema=None) as batch_op:
        batch_op.drop_constraint("series_status", type_="check")
        batch_op.create_check_constraint("series_status", OLD_SERIES)
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_bookings_session_id_school_id_class_name_active",
            postgresql_where=sa.text(NEW_ACTIVE),
            sqlite_where=sa.text(NEW_ACTIVE),
        )
        batch_op.drop_constraint("booking_status", type_="check")
        batch_op.create_check_constraint("booking_status", OLD_STATUSES)
        batch_op.create_index(
            "uq_bookings_session_id_school_id_class_name_active",
            ["session_id", "school_id", "class_name"],
            unique=True,
            postgresql_where=sa.text(OLD_ACTIVE),
            sqlite_where=sa.text(OLD_ACTIVE),
        )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_constraint("change_deadline_not_negative", type_="check")
        batch_op.drop_constraint("min_notice_not_negative", type_="check")
        batch_op.drop_constraint("booking_horizon_positive", type_="check")
        batch_op.drop_column("approval_required")
        batch_op.drop_column("change_deadline_days")
        batch_op.drop_column("min_notice_days")
        batch_op.drop_column("booking_horizon_weeks")
