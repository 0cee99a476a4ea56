"""Stock levels per SKU and the reorder list derived from them."""


class Stock:
    """Quantities on hand, keyed by SKU (stock keeping unit)."""

    def __init__(self):
        self._items = {}

    def add(self, sku, quantity):
        if quantity < 0:
            raise ValueError(f"quantity for {sku!r} must not be negative, got {quantity}")
        self._items[sku] = self._items.get(sku, 0) + quantity

    def remove(self, sku, quantity):
        on_hand = self._items.get(sku, 0)
        if quantity > on_hand:
            raise ValueError(f"cannot remove {quantity} of {sku!r}: only {on_hand} on hand")
        self._items[sku] = on_hand - quantity

    def quantity(self, sku):
        return self._items.get(sku, 0)

    def needs_reorder(self, threshold):
        """Return the SKUs whose quantity is at or below threshold, sorted."""
        return sorted(sku for sku, qty in self._items.items() if qty < threshold)
