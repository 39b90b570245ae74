"""Operations as /admin/system shows them: health (core/health), the queue's depth and oldest
task, workers and their heartbeats, recent errors, failing webhook endpoints, provider error
rates and the email outbox. Every reader refuses anyone but an admin."""
