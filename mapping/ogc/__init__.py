"""OGC API - Features at /ogc/ for GIS staff: QGIS, GDAL and web maps read the sites and
the areas as standard layers (collections: the registry; views; the OpenAPI document;
parameters; coordinate reference systems)."""
