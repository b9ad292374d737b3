"""Running the app for many people: sign-in, a fair share per user, metrics, health routes and idle unload."""
