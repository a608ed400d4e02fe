from django.db import migrations

# A TRUNCATE fires no row or statement trigger of the figures: clear what it empties.
# Emptying the customers (CASCADE reaches their orders and tier changes) empties every
# figure; emptying the orders alone, the revenue; the tier changes alone, the moves.
FUNCTIONS = """
CREATE OR REPLACE FUNCTION tiers_figures_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'customers_customer' THEN
        DELETE FROM tiers_tiercount;
        DELETE FROM tiers_tierrevenue;
        DELETE FROM tiers_tiermovecount;
    ELSIF TG_TABLE_NAME = 'transactions_transaction' THEN
        DELETE FROM tiers_tierrevenue;
    ELSE
        DELETE FROM tiers_tiermovecount;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tiers_customer_figures_truncate AFTER TRUNCATE ON customers_customer
    FOR EACH STATEMENT EXECUTE FUNCTION tiers_figures_truncated();
CREATE TRIGGER tiers_order_figures_truncate AFTER TRUNCATE ON transactions_transaction
    FOR EACH STATEMENT EXECUTE FUNCTION tiers_figures_truncated();
CREATE TRIGGER tiers_move_figures_truncate AFTER TRUNCATE ON tiers_tierchange
    FOR EACH STATEMENT EXECUTE FUNCTION tiers_figures_truncated();
"""

DROP = """
DROP TRIGGER IF EXISTS tiers_customer_figures_truncate ON customers_customer;
DROP TRIGGER IF EXISTS tiers_order_figures_truncate ON transactions_transaction;
DROP TRIGGER IF EXISTS tiers_move_figures_truncate ON tiers_tierchange;
DROP FUNCTION IF EXISTS tiers_figures_truncated();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("tiers", "0010_dashboard_figures"),
    ]

    operations = [migrations.RunSQL(FUNCTIONS, DROP)]
