"""Training of the policies (``retouchiq train``): supervised fine-tuning of the compact policy first."""
