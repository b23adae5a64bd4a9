-- AWS managed keys rotate every year. Those made before rotation existed get the same
-- schedule, counted from their creation (one that is overdue rotates at start-up).

UPDATE keys SET rotation_period_days = 365, next_rotation = created_at + 365 * 86400000
WHERE key_manager = 'AWS' AND rotation_period_days IS NULL;
