"""Alembic environment: run by :meth:`qa_lib.store.Store.migrate` on its own connection."""

from alembic import context

from qa_lib.store import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
