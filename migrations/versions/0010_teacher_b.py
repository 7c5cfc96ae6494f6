"""teacher_b: preparation material of an offer (files; the text is offers.preparation)

Revision ID: 0010_teacher_b
Revises: 0009_oidc
"""

from alembic import op
import sqlalchemy as sa


revision = "0010_teacher_b"
down_revision = "0009_oidc"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "offer_materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=120), nullable=False),
        sa.Column("stored_name", sa.String(length=80), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_offer_materials_size_positive")),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_offer_materials_offer_id_offers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_materials")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_offer_materials_stored_name")),
    )
    with op.batch_alter_table("offer_materials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_materials_offer_id"), ["offer_id"], unique=False)


def downgrade():
    with op.batch_alter_table("offer_materials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offer_materials_offer_id"))
    op.drop_table("offer_materials")
