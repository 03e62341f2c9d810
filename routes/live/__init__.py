"""The live side: the asyncio route manager that serialises accessory events (virtual, BlueZ, adverts)
and the app's calls into the phone model, and sends negotiation commands back to ``routesim.bt``.
"""
