import geometry
from report import describe


def test_rectangle_area_has_its_new_name_only():
    assert geometry.rectangle_area(3, 4) == 12
    assert not hasattr(geometry, "area_of_rect")


def test_the_report_uses_it():
    assert describe([("kitchen", 3, 4), ("hall", 1, 2.5)]) == "kitchen: 12.0 m²\nhall: 2.5 m²\ntotal: 14.5 m²"
