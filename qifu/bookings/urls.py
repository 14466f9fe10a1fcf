from django.urls import path

from . import views

urlpatterns = [
    path("bookings/", views.booking_home, name="booking_home"),
    path("bookings/book/", views.booking_book, name="booking_book"),
    path("bookings/desk/", views.booking_desk, name="booking_desk"),
    path("bookings/<int:pk>/cancel/", views.booking_cancel, name="booking_cancel"),
    path("bookings/<int:pk>/mark/", views.booking_mark, name="booking_mark"),
    path("bookings/queue/", views.queue_index, name="queue_index"),
    path("bookings/queue/<slug:node>/", views.queue_board, name="queue_board"),
    path("bookings/queue/<slug:node>/rows/", views.queue_board_rows, name="queue_board_rows"),
    path("bookings/queue/<slug:node>/take/", views.queue_take, name="queue_take"),
    path("bookings/queue/<slug:node>/call/<slug:window>/", views.queue_call, name="queue_call"),
]
