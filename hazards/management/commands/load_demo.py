"""Demo data for `make run`: the invented province in fixtures/, four demo accounts and
about 200 sites with two years of inspections, all written through the services.
Safe to run again: boundaries reload by code, accounts are reset, sites are made once."""

import datetime as dt
import io
import random
from pathlib import Path

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw

from accounts.models import Membership, Role, User
from accounts.scope import SURVEY, scope_for
from areas.loader import load_boundaries
from areas.models import Area
from hazards import campaigns, lifecycle, orders, services
from hazards.filters import protected_q
from hazards.models import Barrier, CloseReason, Photo, RemediationOrder, Signage, Site, SiteKind
from hazards.rules import Counting

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
DEMO_FILES = ["demo_province.geojson", "demo_districts.geojson", "demo_communes.geojson"]
DEMO_PASSWORD = "SongXanh-2026"
# username, display name, superuser, staff, area code, role
DEMO_USERS = [
    ("admin", "Quản trị viên", True, True, "99", Role.ADMINISTRATOR),
    ("quanly.tinh", "Trần Thị Hoa", False, True, "99", Role.AREA_MANAGER),
    ("quanly.huyen", "Lê Văn Nam", False, True, "991", Role.AREA_MANAGER),
    ("canbo.xa", "Nguyễn Thị Lan", False, False, "99101", Role.FIELD_WORKER),
    ("xem.tinh", "Phạm Minh Đức", False, True, "99", Role.VIEWER),
]
KIND_SHARES = [
    (SiteKind.POND, 40),
    (SiteKind.LAKE, 8),
    (SiteKind.DAM, 4),
    (SiteKind.CANAL, 14),
    (SiteKind.WELL, 8),
    (SiteKind.PIT, 10),
    (SiteKind.RIVER_LANDING, 8),
    (SiteKind.IRRIGATION_WORKS, 5),
    (SiteKind.OTHER, 3),
]
KIND_NAMES = {
    SiteKind.POND: "Ao",
    SiteKind.LAKE: "Hồ",
    SiteKind.DAM: "Đập",
    SiteKind.CANAL: "Kênh mương",
    SiteKind.WELL: "Giếng",
    SiteKind.PIT: "Hố công trình",
    SiteKind.RIVER_LANDING: "Bến sông",
    SiteKind.IRRIGATION_WORKS: "Công trình thủy lợi",
    SiteKind.OTHER: "Điểm nước sâu",
}
OWNERS = ["ông Ba", "bà Tư", "HTX Nông nghiệp", "UBND xã", "Công ty Xây dựng Sông Xanh", "thôn Nà Mò", "ông Hùng"]
SITE_COUNT = 200
# Share of sites whose latest inspection carries a photo.
PHOTO_SHARE = 0.4
# What a demo photo draws for each recorded sign and barrier: the sign's colour (none
# drawn when there is no sign) and how far along the bank the fence runs, in pixels.
SIGN_COLOURS = {Signage.IN_PLACE: (220, 30, 30), Signage.DAMAGED: (150, 120, 120)}
FENCE_ENDS = {Barrier.NONE: 0, Barrier.PARTIAL: 420, Barrier.COMPLETE: 800}


class Command(BaseCommand):
    help = "Load the demo province, accounts and sites (safe to run again)."

    def handle(self, *args, **options):
        with transaction.atomic():
            load_boundaries([FIXTURES / name for name in DEMO_FILES])
            # The schools belong to the map (a layer above this app): loaded by their own command.
            call_command("load_places", FIXTURES / "demo_places.geojson", stdout=self.stdout)
            users = self._users()
            if not Site.objects.filter(area__path__startswith="/99/").exists():
                self._sites(users["admin"], [users["canbo.xa"], users["quanly.huyen"], users["admin"]])
            if not RemediationOrder.all_objects.filter(site__area__path__startswith="/99/").exists():
                self._remediation(users)
        # At the registry's own address: the production stack's is not the development server's.
        self.stdout.write(
            _("Demo data ready. Sign in at %(url)s (managers reach the registry, field workers the survey app) with:")
            % {"url": settings.SITE_URL.rstrip("/") + "/"}
        )
        for username, _name, _su, _staff, code, role in DEMO_USERS:
            self.stdout.write(
                f"  {username:<14} / {DEMO_PASSWORD}   {Role(role).label} · {Area.objects.get(code=code).name}"
            )

    def _users(self) -> dict[str, User]:
        users = {}
        for username, name, superuser, staff, code, role in DEMO_USERS:
            user, _created = User.objects.get_or_create(username=username)
            user.first_name = name
            user.email = f"{username}@songxanh.example"
            user.is_superuser, user.is_staff, user.is_active = superuser, staff, True
            user.set_password(DEMO_PASSWORD)
            user.save()
            Membership.objects.get_or_create(user=user, area=Area.objects.get(code=code), role=role)
            users[username] = user
        return users

    def _sites(self, admin: User, inspectors: list[User]) -> None:
        rng = random.Random(2026)
        communes = list(Area.objects.filter(code__startswith="99", level=Area.Level.COMMUNE))
        kinds = [k for k, share in KIND_SHARES for _i in range(share)]
        today = timezone.localdate()
        for n in range(SITE_COUNT):
            commune = rng.choice(communes)
            point = _random_point_in(commune, rng)
            kind = rng.choice(kinds)
            temporary = kind in (SiteKind.PIT, SiteKind.IRRIGATION_WORKS)
            active_from = today - dt.timedelta(days=rng.randint(60, 760))
            site = services.site_register(
                actor=admin,
                kind=kind,
                name=f"{KIND_NAMES[kind]} {rng.choice(OWNERS)} {n + 1}",
                location=point,
                deep_water=rng.random() < 0.85,
                depth_m=round(rng.uniform(1.0, 8.0), 1),
                responsible_party=rng.choice(OWNERS),
                is_temporary=temporary,
                expected_end=active_from + dt.timedelta(days=540) if temporary else None,
                active_from=active_from,
            )
            self._history(site, active_from, today, inspectors, rng)
            if rng.random() < 0.05:
                # Closed after its last inspection: an inspection after a closure is refused.
                site.refresh_from_db()
                last = timezone.localdate(site.last_checked_at) if site.last_checked_at else active_from
                lifecycle.site_close(
                    actor=admin,
                    site=site,
                    reason=rng.choice([CloseReason.FILLED_IN, CloseReason.DRAINED, CloseReason.FENCED_OFF]),
                    closed_at=min(today, last + dt.timedelta(days=rng.randint(1, 50))),
                )

    def _history(self, site, start, today, inspectors, rng) -> None:
        """Inspections every few months; signs and barriers get better over time."""
        day = start + dt.timedelta(days=rng.randint(0, 30))
        progress = rng.random() * 0.3
        inspection = None
        while day <= today:
            progress = min(1.0, progress + rng.uniform(0.05, 0.3))
            signage = Signage.IN_PLACE if rng.random() < progress else rng.choice([Signage.NONE, Signage.DAMAGED])
            barrier = Barrier.COMPLETE if rng.random() < progress * 0.8 else rng.choice([Barrier.NONE, Barrier.PARTIAL])
            when = timezone.make_aware(dt.datetime.combine(day, dt.time(rng.randint(7, 16), rng.randint(0, 59))))
            inspector = rng.choice([u for u in inspectors if scope_for(u).allows(SURVEY, site.area)])
            inspection = services.inspection_record(
                actor=inspector,
                site=site,
                inspected_at=when,
                signage=signage,
                barrier=barrier,
                water_present=rng.random() < 0.9,
                water_depth_m=round(rng.uniform(0.5, 6.0), 1),
                notes=rng.choice(["", "", "Đã nhắc chủ hộ", "Biển bị đổ sau mưa", "Đã rào lưới B40"]),
            )
            day += dt.timedelta(days=rng.randint(90, 300))
        if inspection is not None and rng.random() < PHOTO_SHARE:
            services.photo_attach(actor=inspector, inspection=inspection, data=_demo_photo(inspection, rng))

    def _remediation(self, users: dict[str, User]) -> None:
        """Orders in every state, most in the field worker's commune, and a campaign in
        progress over the province."""
        today = timezone.localdate()
        manager, worker = users["quanly.huyen"], users["canbo.xa"]
        # Sites with a photo first: their notice to the owner prints it.
        with_photo = Exists(Photo.objects.filter(inspection__site=OuterRef("pk")))
        open_sites = Site.objects.filter(Counting(today)).exclude(protected_q()).order_by(~with_photo, "code")
        here = list(open_sites.filter(area__code="99101")[:20])
        elsewhere = list(open_sites.filter(area__path__startswith="/99/991/").exclude(area__code="99101")[:2])

        def lacking(site) -> list[str]:
            """What the site lacks, as a real order would ask."""
            return [r for r in ("sign", "barrier") if not orders.requirement_met(r, site.state, water_present=True)]

        def take(*needs) -> Site:
            """The next of the commune's sites that lacks each of `needs`: an order asks only
            for what is missing."""
            site = next(s for s in here if set(needs) <= set(lacking(s)))
            here.remove(site)
            return site

        def order(site, days, requirements, party=("household", "Hộ ông Ba"), follow_up=worker):
            return orders.order_open(
                actor=manager, site=site, party_kind=party[0], party_name=party[1], party_phone="0912 345 678",
                party_address=f"{site.area.name}", requirements=requirements,
                deadline=today + dt.timedelta(days=days), follow_up=follow_up,
            )  # fmt: skip

        def backdate(made, opened_days_ago, deadline_days):
            # The services refuse a deadline in the past, as they must for a real order: the
            # demo's history is written as if the orders had been opened weeks ago.
            RemediationOrder.objects.filter(pk=made.pk).update(
                opened_at=timezone.now() - dt.timedelta(days=opened_days_ago),
                deadline=today + dt.timedelta(days=deadline_days),
            )

        def inspect(site, signage, barrier):
            services.inspection_record(
                actor=worker, site=site, inspected_at=timezone.now(), signage=signage, barrier=barrier
            )

        due_soon = take()
        order(due_soon, 5, lacking(due_soon))  # open, due this week
        late = take()
        backdate(order(late, 30, lacking(late), ("cooperative", "HTX Nông nghiệp Suối Bạc")), 40, -6)  # overdue
        orders.order_acknowledge(actor=worker, order=order(take("barrier"), 20, ["cover"]))
        orders.order_mark_done(actor=worker, order=order(take("sign"), 10, ["sign"], ("company", "Công ty Xây dựng")))
        fixed = take()
        verified = order(fixed, 15, lacking(fixed), ("public_body", "UBND xã Suối Bạc"))
        backdate(verified, 12, 3)
        orders.order_mark_done(actor=worker, order=verified)
        inspect(fixed, Signage.IN_PLACE, Barrier.COMPLETE)
        partly = take("barrier")
        reopened = order(partly, 12, ["barrier"])
        orders.order_mark_done(actor=worker, order=reopened)
        inspect(partly, Signage.IN_PLACE, Barrier.PARTIAL)
        for site in elsewhere:
            order(site, 25, lacking(site), ("household", "Hộ bà Tư"), follow_up=manager)
        campaigns.campaign_start(
            actor=users["quanly.tinh"], name=_("Before summer %(year)s") % {"year": today.year},
            area=Area.objects.get(code="99"), starts_on=today - dt.timedelta(days=10),
            ends_on=today + dt.timedelta(days=50),
        )  # fmt: skip


def _demo_photo(inspection, rng: random.Random) -> bytes:
    """A small drawn picture of the place: sky, water, and the sign and fence it has."""
    image = Image.new("RGB", (800, 600), (150 + rng.randint(0, 60), 190, 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 330, 800, 600], fill=(60, 110 + rng.randint(0, 60), 70))
    draw.ellipse([120 + rng.randint(-60, 60), 380, 680, 560], fill=(40, 90, 150 + rng.randint(0, 60)))
    sign = SIGN_COLOURS.get(inspection.signage)
    if sign:
        draw.rectangle([90, 250, 100, 420], fill=(90, 90, 90))
        draw.rectangle([40, 190, 150, 260], fill=sign, outline=(255, 255, 255), width=6)
    end = FENCE_ENDS[inspection.barrier]
    if end:
        for x in range(0, end, 40):
            draw.line([x, 360, x, 440], fill=(120, 80, 40), width=5)
        draw.line([0, 380, end, 380], fill=(120, 80, 40), width=4)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def _random_point_in(area: Area, rng: random.Random) -> Point:
    lon_min, lat_min, lon_max, lat_max = area.geom.extent
    while True:
        point = Point(rng.uniform(lon_min, lon_max), rng.uniform(lat_min, lat_max), srid=4326)
        # Keep clear of borders so the demo site lands in the commune it was drawn for.
        if area.geom.contains(point) and area.geom.boundary.distance(point) > 0.002:
            return point
