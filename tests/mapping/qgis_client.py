"""QGIS 3.22 itself, headless, doing what a provincial GIS officer does: store a Basic
credential (user name and device token) in QGIS's authentication database, add the OGC API
layer of the sites and the vector tiles with the registry's style, and look at what
arrives. Run by Debian's /usr/bin/python3 (python3-qgis is a system package, not in the
project's virtualenv): tests/mapping/test_qgis.py passes a JSON job as the argument and
reads a JSON report from the output's last line."""

import json
import os
import sys
import tempfile

PROFILE = tempfile.mkdtemp(prefix="qgis-profile-")
# Before QGIS starts: its settings and authentication database in a folder of their own.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["QGIS_CUSTOM_CONFIG_PATH"] = PROFILE
os.environ["QGIS_AUTH_DB_DIR_PATH"] = PROFILE

from qgis.core import (  # noqa: E402 - after the environment above
    Qgis,
    QgsApplication,
    QgsAuthCertUtils,
    QgsAuthMethodConfig,
    QgsBlockingNetworkRequest,
    QgsCoordinateReferenceSystem,
    QgsDataSourceUri,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorLayer,
    QgsVectorTileBasicRenderer,
    QgsVectorTileLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QSize, QUrl  # noqa: E402
from qgis.PyQt.QtNetwork import QNetworkRequest, QSslCertificate  # noqa: E402


class WatchingRenderer(QgsVectorTileBasicRenderer):
    """The style's own renderer (so QGIS decodes the fields the style reads: state, due,
    the clusters' counts per state), noting each feature it is given before drawing it.
    QGIS numbers tile features itself (it ignores MVT ids), so they are told apart by place."""

    def __init__(self, styles, seen):
        super().__init__()
        self.setStyles(styles)
        self.seen = seen
        self.clones = []

    def type(self):
        return "watching"

    def clone(self):
        clone = WatchingRenderer(self.styles(), self.seen)
        self.clones.append(clone)  # QGIS renders with a clone; Python must keep it alive
        return clone

    def renderTile(self, tile, context):
        for layer in ("sites", "clusters"):
            for feature in tile.layerFeatures(layer):
                point = feature.geometry().asPoint()
                place = f"{round(point.x(), -1):.0f},{round(point.y(), -1):.0f}"  # 10 m: a site in two tiles once
                attributes = {f.name(): feature[f.name()] for f in feature.fields()}
                self.seen.setdefault(layer, {})[place] = {
                    key: value for key, value in attributes.items() if isinstance(value, (str, int, float, bool))
                }
        super().renderTile(tile, context)


def basic_credential(auth, username: str, token: str) -> str:
    config = QgsAuthMethodConfig("Basic")
    config.setName("hazard registry")
    config.setConfig("username", username)
    config.setConfig("password", token)
    if not auth.storeAuthenticationConfig(config)[0]:
        raise SystemExit("QGIS did not store the credential")
    return config.id()


def trust(auth, certificate_path: str) -> None:
    """The stack's self-signed certificate, trusted as a certificate authority."""
    for certificate in QSslCertificate.fromPath(certificate_path):
        auth.storeCertAuthority(certificate)
        auth.storeCertTrustPolicy(certificate, QgsAuthCertUtils.Trusted)
    auth.rebuildCaCertsCache()
    auth.rebuildTrustedCaCertsCache()
    auth.rebuildCertTrustCache()


def layer_report(layer, features) -> dict:
    """What QGIS shows of a layer: its fields, geometry type, and each feature's code,
    name and state where the layer has them and its geometry's bounds, by site id."""
    fields = {f.name(): f.typeName() for f in layer.fields()}
    shown = [name for name in ("code", "name", "state") if name in fields]
    by_id = {}
    for feature in features:
        box = feature.geometry().boundingBox()
        by_id[str(feature["id"])] = {
            **{name: feature[name] for name in shown},
            "bounds": [box.xMinimum(), box.yMinimum(), box.xMaximum(), box.yMaximum()],
        }
    return {
        "valid": True,
        "ids": [str(feature["id"]) for feature in features],
        "fields": fields,
        "geometry": QgsWkbTypes.displayString(layer.wkbType()),
        "features": by_id,
    }


def ogc_collection(base: str, authcfg: str, collection: str):
    uri = QgsDataSourceUri()
    uri.setParam("url", f"{base}/ogc/")
    uri.setParam("typename", collection)
    uri.setAuthConfigId(authcfg)
    layer = QgsVectorLayer(uri.uri(False), collection, "OAPIF")
    if not layer.isValid():
        return layer, [], {"valid": False, "error": layer.error().summary()}
    features = list(layer.getFeatures())
    return layer, features, layer_report(layer, features)


def ogc_layer(base: str, authcfg: str) -> dict:
    layer, features, report = ogc_collection(base, authcfg, "sites")
    if not report["valid"]:
        return report
    return {**report, "style": load_style(layer, f"{base}/ogc/collections/sites/style.qml", authcfg, features[0])}


def file_layers(sources: dict) -> dict:
    """The exports as the officer opens them (Layer > Add Vector Layer): the GeoPackage's
    two layers, and the Shapefile zip read in place (/vsizip/), sites.shp and outlines.shp."""
    opened = {}
    for name, source in sources.items():
        layer = QgsVectorLayer(source, name, "ogr")
        if not layer.isValid():
            opened[name] = {"valid": False, "error": layer.error().summary()}
            continue
        opened[name] = layer_report(layer, list(layer.getFeatures()))
    return opened


def load_style(layer, url: str, authcfg: str, feature) -> dict:
    """The collection's QGIS style, downloaded with the stored credential and loaded as an
    officer does (Load Style): what QGIS then shows of the layer and of one feature."""
    request = QgsBlockingNetworkRequest()
    request.setAuthCfg(authcfg)
    asked = QNetworkRequest(QUrl(url))
    asked.setRawHeader(b"Accept-Language", b"vi")  # as a QGIS in Vietnamese asks
    if request.get(asked) != QgsBlockingNetworkRequest.NoError:
        return {"error": request.errorMessage()}
    path = os.path.join(PROFILE, "sites.qml")
    with open(path, "wb") as file:
        file.write(bytes(request.reply().content()))
    message, loaded = layer.loadNamedStyle(path)
    if not loaded:
        return {"error": message}
    categories = layer.renderer().categories()  # kept: the symbols live as long as the list
    kind = layer.fields().indexOf("kind")
    setup = layer.editorWidgetSetup(kind)
    formatter = QgsApplication.fieldFormatterRegistry().fieldFormatter(setup.type())
    return {
        "renderer": layer.renderer().type(),
        "categories": {c.value(): c.symbol().color().name() for c in categories},
        "kind_alias": layer.attributeAlias(kind),
        "kind_shown": formatter.representValue(layer, kind, setup.config(), None, feature["kind"]),
    }


def tile_layer(base: str, authcfg: str, views: list) -> dict:
    uri = QgsDataSourceUri()
    uri.setParam("type", "xyz")
    uri.setParam("url", f"{base}/tiles/sites/{{z}}/{{x}}/{{y}}.pbf")
    uri.setParam("zmin", "0")
    uri.setParam("zmax", "14")
    uri.setParam("styleUrl", f"{base}/tiles/sites-style.json")
    uri.setAuthConfigId(authcfg)
    layer = QgsVectorTileLayer(bytes(uri.encodedUri()).decode(), "sites")
    if not layer.isValid():
        return {"valid": False, "error": layer.error().summary()}
    # As QGIS does when a layer is added: the style named by styleUrl.
    message, loaded = layer.loadDefaultStyle()
    if not loaded:
        return {"valid": True, "error": f"style not loaded: {message}"}
    styles = layer.renderer().styles()
    seen = {}
    layer.setRenderer(WatchingRenderer(styles, seen))
    by_view = []
    for west, south, east, north in views:  # web mercator metres, drawn 1024 pixels wide
        settings = QgsMapSettings()
        settings.setLayers([layer])
        settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
        settings.setOutputSize(QSize(1024, 1024))
        settings.setExtent(QgsRectangle(west, south, east, north))
        seen.clear()
        job = QgsMapRendererSequentialJob(settings)
        job.start()
        job.waitForFinished()
        by_view.append({name: dict(features) for name, features in seen.items()})
    return {
        "valid": True,
        "style": [[style.layerName(), style.filterExpression()] for style in styles],
        "views": by_view,
    }


def main() -> None:
    job = json.loads(sys.argv[1])
    app = QgsApplication([], False)
    app.initQgis()
    auth = QgsApplication.authManager()
    auth.setMasterPassword("qgis-test-master", True)
    trust(auth, job["certificate"])
    authcfg = basic_credential(auth, job["username"], job["token"])
    report = {
        "version": Qgis.QGIS_VERSION,
        "ogc": ogc_layer(job["url"], authcfg),
        "ogc_outlines": ogc_collection(job["url"], authcfg, "site-outlines")[2],
        "files": file_layers(job["files"]),
        "tiles": tile_layer(job["url"], authcfg, job["views"]),
    }
    print(json.dumps(report))
    app.exitQgis()


if __name__ == "__main__":
    main()
