// Placeholder until the HTTP fetcher lands (issue 3).
