"""Every output: findings, plans, simulations, forecasts and manifests as text.

Layer contract: pure str producers; only the shells (cli, the Pulumi program,
the policy pack) import views.
"""
