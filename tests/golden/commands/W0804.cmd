filmc plan --prompts FILM --image-model flux
