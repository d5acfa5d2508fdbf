"""The agents' workspace: accounts and logins, the inbox, reviews, notes and tags, how transcripts are shown."""
