filmc plan --prompts FILM
