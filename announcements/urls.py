from django.urls import path

from announcements import views

urlpatterns = [
    path("announcements/<int:announcement_id>/dismiss/", views.announcement_dismiss, name="announcement_dismiss"),
    path("account/product-news/", views.product_news, name="product_news"),
    path("product-news/unsubscribe/<str:token>/", views.product_news_unsubscribe, name="product_news_unsubscribe"),
]
