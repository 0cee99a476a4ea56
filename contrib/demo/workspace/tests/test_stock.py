import unittest

from inventory.stock import Stock


class StockTest(unittest.TestCase):
    def setUp(self):
        self.stock = Stock()
        self.stock.add("apple", 12)
        self.stock.add("pear", 3)
        self.stock.add("plum", 5)

    def test_add_accumulates(self):
        self.stock.add("apple", 8)
        self.assertEqual(self.stock.quantity("apple"), 20)

    def test_add_rejects_negative_quantity(self):
        with self.assertRaises(ValueError):
            self.stock.add("apple", -1)

    def test_remove_more_than_on_hand_fails(self):
        with self.assertRaises(ValueError):
            self.stock.remove("pear", 4)
        self.assertEqual(self.stock.quantity("pear"), 3)

    def test_reorder_lists_items_below_threshold(self):
        self.assertEqual(self.stock.needs_reorder(4), ["pear"])

    def test_reorder_includes_item_at_threshold(self):
        self.assertEqual(self.stock.needs_reorder(5), ["pear", "plum"])


if __name__ == "__main__":
    unittest.main()
