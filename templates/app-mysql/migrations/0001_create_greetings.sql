-- Applied once, in name order, by the migrations Job (node dist/migrate.js) as DB_MIGRATIONS_USER. MySQL
-- commits DDL as it goes: keep one change per file. Add new files (0002_…sql); never edit one that has been applied.
CREATE TABLE greetings (
  id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name varchar(64) NOT NULL,
  created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  INDEX greetings_name (name)
) DEFAULT CHARSET = utf8mb4;
