-- Applied once, in name order, by the migrations Job (node dist/migrate.js) as DB_MIGRATIONS_USER, in a
-- transaction. Add new files (0002_…sql); never edit one that has been applied.
CREATE TABLE greetings (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name varchar(64) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX greetings_name ON greetings (name);
