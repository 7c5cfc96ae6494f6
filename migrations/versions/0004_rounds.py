"""rounds: a request round's own period; round outcomes as a code with parameters

A round offers only sessions between period_start and period_end (local dates); rounds made
before keep both empty. An outcome is stored as a code plus parameters (rank, rule, lottery
number) and rendered in the reader's language instead of stored English text.

Revision ID: 0004_rounds
Revises: 0003_transport
"""

from alembic import op
import sqlalchemy as sa


revision = "0004_rounds"
down_revision = "0003_transport"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("request_rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("period_start", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("period_end", sa.Date(), nullable=True))
        batch_op.create_check_constraint(batch_op.f("ck_request_rounds_period_order"), "period_end >= period_start")
    with op.batch_alter_table("round_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome_code", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("outcome_params", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("round_requests", schema=None) as batch_op:
        batch_op.drop_column("outcome_params")
        batch_op.drop_column("outcome_code")
    with op.batch_alter_table("request_rounds", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_request_rounds_period_order"), type_="check")
        batch_op.drop_column("period_end")
        batch_op.drop_column("period_start")
