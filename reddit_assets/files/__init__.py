"""File formats on disk: atomic writes, paths, the raw file, the archive zip, normalized rows, previews."""
