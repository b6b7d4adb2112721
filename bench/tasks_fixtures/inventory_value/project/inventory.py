"""Stock kept per SKU."""

from dataclasses import dataclass, field


@dataclass
class Item:
    sku: str
    price_cents: int
    quantity: int = 0


@dataclass
class Inventory:
    items: dict[str, Item] = field(default_factory=dict)

    def add(self, sku: str, price_cents: int, quantity: int = 1) -> None:
        """Add `quantity` of `sku` (its price is set by the first add)."""
        item = self.items.setdefault(sku, Item(sku, price_cents))
        item.quantity += quantity

    def remove(self, sku: str, quantity: int = 1) -> None:
        """Take `quantity` of `sku` out: KeyError for an unknown SKU, ValueError if too few."""
        item = self.items[sku]
        if quantity > item.quantity:
            raise ValueError(f"only {item.quantity} of {sku} in stock")
        item.quantity -= quantity

    # TODO: total_value() -> int: the stock's value in cents (price times quantity, summed over
    # the items); an empty inventory is worth 0.
