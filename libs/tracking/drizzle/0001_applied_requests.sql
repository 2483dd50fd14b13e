CREATE TABLE `applied_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`run_id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `applied_requests_created_idx` ON `applied_requests` (`created_at`);