CREATE TABLE `experiment_tags` (
	`experiment_id` integer NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`experiment_id`, `key`),
	FOREIGN KEY (`experiment_id`) REFERENCES `experiments`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
DROP INDEX `metrics_run_key_step_idx`;--> statement-breakpoint
DELETE FROM `metrics` WHERE `id` NOT IN (SELECT min(`id`) FROM `metrics` GROUP BY `run_id`, `key`, `step`, `timestamp`, coalesce(`value`, 'NaN'));--> statement-breakpoint
CREATE UNIQUE INDEX `metrics_point_uq` ON `metrics` (`run_id`,`key`,`step`,`timestamp`,coalesce(`value`, 'NaN'));--> statement-breakpoint
ALTER TABLE `experiments` ADD `last_update_time` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `heartbeats` integer DEFAULT true NOT NULL;