"""Container images: flavours, content keys, build contexts, builds (here, cross, on the device), versions."""
