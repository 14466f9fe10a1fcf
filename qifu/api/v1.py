from ninja import NinjaAPI

api = NinjaAPI(title="qifu API", version="1")
