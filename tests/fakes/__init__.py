"""Local stand-ins for services the tests cannot reach, speaking (and checking) their real protocols."""
