"""oidc: sign-in through OpenID Connect providers; password sign-in off per region

Accounts are linked to a person at a provider by (provider, subject); accepted nonces are
kept (hashed) until they expire so a replayed ID token is refused; a region can turn
password sign-in off for its teachers.

Revision ID: 0009_oidc
Revises: 0008_buses
"""

from alembic import op
import sqlalchemy as sa


revision = "0009_oidc"
down_revision = "0008_buses"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "oidc_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("institution", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_oidc_identities_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_identities")),
        sa.UniqueConstraint("provider", "subject", name="uq_oidc_identities_provider_subject"),
    )
    with op.batch_alter_table("oidc_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_identities_user_id"), ["user_id"], unique=False)

    op.create_table(
        "oidc_nonces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_nonces")),
        sa.UniqueConstraint("nonce_hash", name=op.f("uq_oidc_nonces_nonce_hash")),
    )
    with op.batch_alter_table("oidc_nonces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_nonces_expires_at"), ["expires_at"], unique=False)

    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_login_off", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.alter_column("password_login_off", server_default=None)


def downgrade():
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.drop_column("password_login_off")
    with op.batch_alter_table("oidc_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_nonces_expires_at"))
    op.drop_table("oidc_nonces")
    with op.batch_alter_table("oidc_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_identities_user_id"))
    op.drop_table("oidc_identities")
