"""gradkit."""
